"""Data generators, one module per concept; every task follows the contract of :mod:`.base`.

``x, y = task.sample(m, generator=g)``: a frozen dataclass draws ``m`` examples with a
``torch.Generator`` and returns tensors on ``g.device``; sequence tasks return
``(tokens, targets)`` with :data:`IGNORE_INDEX` at unscored positions.

- :mod:`~lmt_core.tasks.base` — the contract: ``Task``, ``IGNORE_INDEX``, ``all_bits``,
  ``check_tokens``, ``device_of``.
- :mod:`~lmt_core.tasks.boolean` — the hypercube and the parity family: sparse, local and
  leaky parities, learning parity with noise, fixed samples for offline training.
- :mod:`~lmt_core.tasks.gaussian` — Gaussian inputs, single- and multi-index models and the
  hierarchical target g(p(x)) with a quadratic feature.
- :mod:`~lmt_core.tasks.tensors` — orthogonally decomposable tensors.
- :mod:`~lmt_core.tasks.noisy_labels` — label noise: flipped signs and classes.
- :mod:`~lmt_core.tasks.sequences` — copying, associative recall, the n-gram copy construction
  and bounded Dyck languages.
- :mod:`~lmt_core.tasks.chains` — chains of thought: parity chains, threshold circuits,
  addition and multiplication.
- :mod:`~lmt_core.tasks.markov` — Markov and causal-graph sources: Dirichlet transition rows,
  random causal graphs and their Bayes / unigram predictive laws, sparse contextual bigrams and
  the synthetic Markov language.
- :mod:`~lmt_core.tasks.facts` — synthetic subject–relation–answer facts.
- :mod:`~lmt_core.tasks.transfer` — a source and a target task sharing teacher features.
- :mod:`~lmt_core.tasks.data_order` — storage-aware data orders: shards, CorgiPile, Corgi².
"""

from lmt_core.tasks.base import IGNORE_INDEX, Task, all_bits, check_tokens, device_of

# ---- boolean, gaussian, tensors, noisy labels ----------------------------------------------
from lmt_core.tasks.boolean import (
    LeakyParity,
    LeakySample,
    SparseParity,
    fixed_samples,
    hypercube,
    local_parity,
    lpn_task,
    offline_batches,
    parity,
    random_local_parity,
    random_signs,
    window_start,
)

# ---- sequences and chains of thought -------------------------------------------------------
from lmt_core.tasks.chains import (
    AdditionCoT,
    Gate,
    MultiplicationCoT,
    ParityCoT,
    ThresholdCircuit,
    adder_circuit,
    digits_to_int,
    int_to_digits,
    parity_circuit,
    running_parities,
    tokens_to_signs,
)

# ---- markov sources, facts, transfer, data order -------------------------------------------
from lmt_core.tasks.data_order import (
    corgi2_offline,
    corgipile,
    full_random,
    label_sorted_shards,
    shard_sequential,
)
from lmt_core.tasks.facts import Facts
from lmt_core.tasks.gaussian import (
    HIERARCHY_LINKS,
    MultiIndex,
    QuadraticHierarchy,
    SingleIndex,
    gaussian_inputs,
    num_monomials,
    num_quadratic_features,
    quadratic_features,
    random_orthonormal,
    random_quadratic_form,
    random_unit_vector,
    unit_vector_with_overlap,
)
from lmt_core.tasks.markov import (
    CausalGraphTask,
    MarkovLanguage,
    SparseContextualBigram,
    bayes_predictive,
    dirichlet_rows,
    markov_parents,
    predictive_cross_entropy,
    random_tree,
    unigram_predictive,
)
from lmt_core.tasks.noisy_labels import flip_classes, flip_signs
from lmt_core.tasks.sequences import AssociativeRecall, Copy, Dyck, has_repeated_ngram, ngram_copy
from lmt_core.tasks.tensors import orthogonal_tensor, power_sum_tensor
from lmt_core.tasks.transfer import FeatureTransfer

__all__ = [
    # base
    "IGNORE_INDEX",
    "Task",
    "all_bits",
    "check_tokens",
    "device_of",
    # boolean, gaussian, tensors, noisy labels
    "random_signs",
    "parity",
    "hypercube",
    "SparseParity",
    "local_parity",
    "random_local_parity",
    "window_start",
    "LeakySample",
    "LeakyParity",
    "lpn_task",
    "fixed_samples",
    "offline_batches",
    "gaussian_inputs",
    "random_unit_vector",
    "random_orthonormal",
    "unit_vector_with_overlap",
    "SingleIndex",
    "MultiIndex",
    "HIERARCHY_LINKS",
    "QuadraticHierarchy",
    "random_quadratic_form",
    "quadratic_features",
    "num_quadratic_features",
    "num_monomials",
    "orthogonal_tensor",
    "power_sum_tensor",
    "flip_signs",
    "flip_classes",
    # sequences and chains of thought
    "Copy",
    "AssociativeRecall",
    "has_repeated_ngram",
    "ngram_copy",
    "Dyck",
    "ParityCoT",
    "running_parities",
    "tokens_to_signs",
    "Gate",
    "ThresholdCircuit",
    "parity_circuit",
    "adder_circuit",
    "AdditionCoT",
    "MultiplicationCoT",
    "int_to_digits",
    "digits_to_int",
    # markov sources, facts, transfer, data order
    "dirichlet_rows",
    "markov_parents",
    "random_tree",
    "CausalGraphTask",
    "bayes_predictive",
    "unigram_predictive",
    "predictive_cross_entropy",
    "SparseContextualBigram",
    "MarkovLanguage",
    "Facts",
    "FeatureTransfer",
    "label_sorted_shards",
    "full_random",
    "shard_sequential",
    "corgipile",
    "corgi2_offline",
]
