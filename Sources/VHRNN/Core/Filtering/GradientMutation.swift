/// A deliberate defect in the backward pass, to show that the gradient check catches each kind
/// of mistake a change could introduce (`vhrnn gradcheck --mutation`, and the check's own
/// tests). Never set in training or evaluation.
public enum GradientMutation: String, CaseIterable, Codable, Sendable {
    /// After a resampling, the state gradients go back to the child's own row instead of being
    /// scatter-added into its ancestor's (the gather treated as the identity).
    case droppedAncestorScatter = "dropped-ancestor-scatter"
    /// The proposal mean is mu_p + dmu_q; its gradient is not added into the prior mean's.
    case droppedResidualMean = "dropped-residual-mean"
    /// The emission's output-layer bias gets no gradient. (Its output layer, because a hidden
    /// layer's bias can carry no gradient at all when every unit of a tiny layer is inactive.)
    case droppedBias = "dropped-bias"
}
