/// What a sampler writes as each generated frame x_t — and feeds back into phi_x for the
/// next step.
///
/// The latent path is stochastic in both modes (z_t ~ p(z_t | h_{t-1}) always), and the
/// noise streams advance identically, so the two modes see the same z draws for a seed.
public enum EmissionOutput: String, Sendable, Codable, CaseIterable {
    /// A draw from the emission: Bernoulli 0/1 values, or mu_x + sigma_x · eps.
    case sample
    /// The emission's mean: Bernoulli probabilities sigmoid(logits), or mu_x. Feeding the
    /// mean back is the usual "mean trajectory" view; for Bernoulli data it gives the model
    /// inputs (probabilities) it never saw in training, so prefer `.sample` there when the
    /// frames themselves matter.
    case mean
}
