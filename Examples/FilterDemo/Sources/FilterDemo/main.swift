// A downstream program using the VHRNN library as another project would: build a VHRNN,
// compute its bounds on synthetic data, train it briefly, and compute them again.
import VHRNN

let data = SyntheticData.make(setting: .standard, seed: 0)
var generator = SplitMix64(seed: 42)
let model = try SequenceModel<Float>(
    configuration: ModelConfiguration(model: .vhrnn, dataDim: 2, emission: .gaussian, latentDim: 4, fcLayers: 2),
    generator: &generator)
print("FilterDemo: VHRNN with \(model.parameterCount) parameters; kernels on \(KernelRuntime.parallelBackend)")

func report(_ label: String) throws {
    let e = try Evaluator.evaluate(model: model, split: data.valid, particles: 16, seed: 1)
    print("FilterDemo: \(label): ELBO \(e.elbo!)  IWAE \(e.iwae!)  FIVO \(e.fivo!) per step (K=16)")
}

try report("untrained")
var options = TrainingOptions()
options.steps = 300
options.learningRate = 3e-3
options.validateEvery = 300
let trainer = try Trainer(model: model, dataset: data, options: options, dataSource: "synthetic:standard")
let summary = try trainer.run()
try report("after \(summary.finalStep) steps")
