"""Chains of thought: sequences whose intermediate tokens make a target learnable step by step.

Every sequence is in the next-token convention of :mod:`lmt_core.tasks.base`: ``targets[:, t]``
is the token to predict from position ``t`` (``tokens[:, t + 1]``) at every generated position,
and :data:`~lmt_core.tasks.base.IGNORE_INDEX` at the prompt, so a causal model trained with
``train.fit(..., loss="cross_entropy")`` learns exactly the chain. Every task's
``sample(m, *, generator)`` returns ``(tokens, targets)`` on ``generator.device``.

* :class:`ParityCoT` — sparse parity as a token sequence (Wen et al. 2024). The n input bits
  x_1, ..., x_n are tokens 0/1 (token b stands for the sign (-1)^b, the book's convention). For a
  secret support S = (s_1, ..., s_k), visited in this order, with the chain (``cot=True``) the
  inputs are followed by the k running parities z_j = x_{s_1} ⊕ ... ⊕ x_{s_j}, the last one being
  the answer (T = n + k); without it (``cot=False``) by the answer z_k alone (T = n + 1).
  :meth:`ParityCoT.prefixes` lists, for each generated token, the prefix it is predicted from
  (for predictors without a sequence dimension, e.g. linear autoregressive models).
* :class:`ThresholdCircuit` — a circuit of linear threshold gates over 0/1 inputs (Malach 2023);
  its chain of thought writes the value of every gate, in order, after the inputs.
  :func:`parity_circuit` (two gates per XOR) and :func:`adder_circuit` (a ripple-carry adder, two
  gates per bit) build examples.
* :class:`AdditionCoT` — m-digit addition in base B, digits least significant first. With the
  chain the model first writes the column sums ``t_i = a_i + b_i + [t_{i-1} >= B]`` and then the
  answer digits ``t_i mod B`` (and the final carry); without it, the answer digits alone.
* :class:`MultiplicationCoT` — m-digit multiplication in base B, column by column: for each output
  column the chain writes the incoming carry and then the running sum after each digit product.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import torch

from lmt_core._checks import check_int
from lmt_core.tasks.base import IGNORE_INDEX, all_bits, device_of

__all__ = [
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
]


def _targets(tokens: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Next-token targets of ``tokens`` ``(B, T)``: scored from position ``prompt_len − 1`` on."""
    targets = torch.full_like(tokens, IGNORE_INDEX)
    targets[:, prompt_len - 1 : -1] = tokens[:, prompt_len:]
    return targets


# --------------------------------------------------------------------------- parity chains


def running_parities(bits: torch.Tensor, support: Sequence[int]) -> torch.Tensor:
    """The running XORs z_j = b_{s_1} ⊕ ... ⊕ b_{s_j}, j = 1..k, of 0/1 ``bits`` ``(B, n)``.

    Returns:
        long tensor ``(B, k)`` of 0/1.
    """
    if not isinstance(bits, torch.Tensor) or bits.dim() != 2:
        raise TypeError("bits must be a tensor of shape (B, n)")
    idx = torch.as_tensor(list(support), dtype=torch.long, device=bits.device)
    if idx.numel() == 0:
        raise ValueError("support must not be empty")
    if idx.min() < 0 or idx.max() >= bits.shape[1]:
        raise ValueError(f"support indices must lie in [0, {bits.shape[1]}), got {idx.tolist()}")
    return bits.long().index_select(1, idx).cumsum(1) % 2


def tokens_to_signs(tokens: torch.Tensor) -> torch.Tensor:
    """Map 0/1 tokens to the signs (-1)^b = 1 - 2b as float32 (the book's ±1 convention)."""
    return (1 - 2 * tokens).to(torch.float32)


@dataclass(frozen=True)
class ParityCoT:
    """k-sparse parity of n bits as a sequence task, with (``cot=True``) or without the chain.

    Attributes:
        n: number of input bits.
        support: the secret indices (from 0) in the order the chain visits them.
        cot: whether the running parities are written out before the answer.
    """

    n: int
    support: tuple[int, ...]
    cot: bool = True

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        s = tuple(int(i) for i in self.support)
        if not s:
            raise ValueError("support must contain at least one index")
        if len(set(s)) != len(s) or min(s) < 0 or max(s) >= self.n:
            raise ValueError(
                f"support must be distinct indices in [0, {self.n}), got {self.support}"
            )
        object.__setattr__(self, "support", s)
        object.__setattr__(self, "cot", bool(self.cot))

    @classmethod
    def random(cls, n: int, k: int, *, seed: int = 0, cot: bool = True) -> "ParityCoT":
        """A support of k distinct indices drawn uniformly (seeded), visited in increasing order."""
        check_int("n", n, minimum=1)
        check_int("k", k, minimum=1, maximum=n)
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        support = torch.randperm(n, generator=g, device="cpu")[:k]
        return cls(n, tuple(sorted(support.tolist())), cot)

    def with_cot(self, cot: bool) -> "ParityCoT":
        """The same secret, with or without the chain."""
        return ParityCoT(self.n, self.support, cot)

    @property
    def k(self) -> int:
        """Sparsity |S|."""
        return len(self.support)

    @property
    def length(self) -> int:
        """Sequence length T: n + k with the chain, n + 1 without."""
        return self.n + (self.k if self.cot else 1)

    @property
    def vocab_size(self) -> int:
        """Two tokens, 0 and 1."""
        return 2

    @property
    def generated_positions(self) -> list[int]:
        """Indices (from 0) of the tokens the model generates: n, ..., T − 1."""
        return list(range(self.n, self.length))

    @property
    def answer_position(self) -> int:
        """Index of the position whose prediction is the answer (the last one with a target)."""
        return self.length - 2

    def attended_input(self, position: int) -> int | None:
        """The input index a predictor at ``position`` must read besides the current token.

        With the chain, the prediction from position n − 1 + j (j = 0..k−1) is z_{j+1} = z_j ⊕
        x_{s_{j+1}}: it needs the secret bit s_{j+1} (and z_j, the token at the position itself,
        when j ≥ 1). Without the chain there is no single such bit; ``None`` is returned.
        """
        j = position - (self.n - 1)
        if self.cot and 0 <= j < self.k:
            return self.support[j]
        return None

    def sequences(self, bits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens and targets for given input bits.

        Args:
            bits: ``(B, n)`` integer (or bool) tensor of 0/1.

        Returns:
            ``(tokens, targets)``, both long ``(B, T)``; ``targets[:, t] = tokens[:, t + 1]`` at the
            positions that predict a generated token, −100 elsewhere.
        """
        if not isinstance(bits, torch.Tensor) or bits.dim() != 2 or bits.shape[1] != self.n:
            raise ValueError(f"bits must have shape (B, {self.n})")
        bits = bits.long()
        if ((bits != 0) & (bits != 1)).any():
            raise ValueError("bits must be 0/1")
        z = running_parities(bits, self.support)
        tail = z if self.cot else z[:, -1:]
        tokens = torch.cat([bits, tail], dim=1)
        targets = torch.full_like(tokens, IGNORE_INDEX)
        targets[:, self.n - 1 : -1] = tokens[:, self.n :]
        return tokens, targets

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` sequences with uniform input bits: ``(tokens, targets)``, each long ``(m, T)``
        on ``generator.device``."""
        check_int("m", m, minimum=1)
        bits = torch.randint(0, 2, (m, self.n), generator=generator, device=device_of(generator))
        return self.sequences(bits)

    def all_sequences(
        self, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """All 2^n sequences (n ≤ 20), input r having bit i equal to bit i of r."""
        check_int("n", self.n, maximum=20)
        return self.sequences(all_bits(self.n, device=device))

    def answers(self, tokens: torch.Tensor) -> torch.Tensor:
        """The correct answer z_k (0/1, long ``(B,)``) of sequences starting with the n inputs."""
        return running_parities(tokens[:, : self.n], self.support)[:, -1]

    def prefixes(
        self, tokens: torch.Tensor, *, pad: int = -1
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One (prefix, next token) pair per generated token (for predictors without a sequence
        dimension).

        Returns:
            ``(prefix, next_token, position)``: ``prefix`` ``(B, P, T − 1)`` holds tokens 0..t of
            the sequence (position t = n − 1 + j for the j-th generated token) and ``pad`` after them;
            ``next_token`` ``(B, P)``; ``position`` ``(P,)`` the index t of the last prefix token.
            P = k with the chain and 1 without.
        """
        if tokens.dim() != 2 or tokens.shape[1] != self.length:
            raise ValueError(f"tokens must have shape (B, {self.length})")
        pos = torch.arange(self.n - 1, self.length - 1, device=tokens.device)
        cols = torch.arange(self.length - 1, device=tokens.device)
        keep = cols.view(1, -1) <= pos.view(-1, 1)  # (P, T-1)
        prefix = tokens[:, None, :-1].expand(-1, len(pos), -1).clone()
        prefix[:, ~keep] = pad
        return prefix, tokens[:, pos + 1], pos


# --------------------------------------------------------------------------- threshold circuits


@dataclass(frozen=True)
class Gate:
    """A linear threshold gate ``[sum_i weights[i] * v[inputs[i]] >= threshold]``.

    ``inputs`` index the wires: 0..n−1 are the circuit's inputs, n + g is the output of gate g.
    """

    inputs: tuple[int, ...]
    weights: tuple[int, ...]
    threshold: int


@dataclass(frozen=True)
class ThresholdCircuit:
    """A threshold circuit with ``n`` 0/1 inputs and gates in topological order.

    Attributes:
        n: number of inputs.
        gates: the gates; gate g may read inputs and gates before g.
        outputs: wire indices of the outputs (default: the last gate).
    """

    n: int
    gates: tuple[Gate, ...]
    outputs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_int("n", self.n, minimum=1)
        if not self.gates:
            raise ValueError("a circuit needs at least one gate")
        for g, gate in enumerate(self.gates):
            if len(gate.inputs) != len(gate.weights):
                raise ValueError(
                    f"gates[{g}]: {len(gate.inputs)} inputs but {len(gate.weights)} weights"
                )
            if any(i < 0 or i >= self.n + g for i in gate.inputs):
                raise ValueError(
                    f"gates[{g}] may read wires 0..{self.n + g - 1} only, got {gate.inputs}"
                )
        outs = self.outputs or (self.n + len(self.gates) - 1,)
        if any(o < 0 or o >= self.wires for o in outs):
            raise ValueError(f"outputs must be wires in [0, {self.wires}), got {outs}")
        object.__setattr__(self, "outputs", tuple(outs))

    @property
    def size(self) -> int:
        """Number of gates (= number of chain-of-thought tokens)."""
        return len(self.gates)

    @property
    def wires(self) -> int:
        """Inputs plus gates: the length T of the chain-of-thought sequence."""
        return self.n + len(self.gates)

    def evaluate(self, bits: torch.Tensor) -> torch.Tensor:
        """All wire values ``(B, n + size)`` (long 0/1) for input bits ``(B, n)``."""
        if bits.dim() != 2 or bits.shape[1] != self.n:
            raise ValueError(f"bits must have shape (B, {self.n})")
        wires = [bits[:, i].long() for i in range(self.n)]
        for gate in self.gates:
            s = sum(w * wires[i] for i, w in zip(gate.inputs, gate.weights))
            wires.append((s >= gate.threshold).long())
        return torch.stack(wires, dim=1)

    def output_values(self, bits: torch.Tensor) -> torch.Tensor:
        """The output wires ``(B, len(outputs))``."""
        return self.evaluate(bits)[:, list(self.outputs)]

    def sequences(
        self, bits: torch.Tensor, *, cot: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, targets)``: inputs then every gate (``cot=True``) or the outputs only."""
        wires = self.evaluate(bits)
        tokens = wires if cot else torch.cat([wires[:, : self.n], wires[:, list(self.outputs)]], 1)
        return tokens, _targets(tokens, self.n)

    def all_inputs(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """All 2^n inputs ``(2^n, n)`` (n ≤ 20); row r has bit i equal to bit i of r."""
        check_int("n", self.n, maximum=20)
        return all_bits(self.n, device=device)


def parity_circuit(n: int, support: Sequence[int] | None = None) -> ThresholdCircuit:
    """Parity of the bits in ``support`` (default: all n) with two threshold gates per XOR.

    With c the running parity and x the next bit: h = AND(c, x) = [c + x >= 2], then
    c' = XOR(c, x) = [c + x − 2h >= 1]. The chain has 2(k − 1) gates for k = |support|.
    """
    check_int("n", n, minimum=1)
    s = list(range(n)) if support is None else [int(i) for i in support]
    if len(s) < 2 or len(set(s)) != len(s) or min(s) < 0 or max(s) >= n:
        raise ValueError(
            f"support must hold at least 2 distinct indices in [0, {n}), got {support}"
        )
    gates: list[Gate] = []
    c = s[0]
    for x in s[1:]:
        h = n + len(gates)
        gates.append(Gate((c, x), (1, 1), 2))
        gates.append(Gate((c, x, h), (1, 1, -2), 1))
        c = n + len(gates) - 1
    return ThresholdCircuit(n, tuple(gates))


def adder_circuit(m: int) -> ThresholdCircuit:
    """Ripple-carry adder of two m-bit numbers (inputs a_0..a_{m−1}, b_0..b_{m−1}, LSB first).

    Per bit: carry c_{i+1} = [a_i + b_i + c_i >= 2] (a majority gate), sum s_i = [a_i + b_i + c_i −
    2 c_{i+1} >= 1]. Outputs: s_0..s_{m−1} and the final carry. 2m gates (bit 0 has no carry in).
    """
    check_int("m", m, minimum=1)
    n = 2 * m
    gates: list[Gate] = []
    outputs: list[int] = []
    carry: int | None = None
    for i in range(m):
        ins = (i, m + i) if carry is None else (i, m + i, carry)
        cout = n + len(gates)
        gates.append(Gate(ins, (1,) * len(ins), 2))
        outputs.append(n + len(gates))
        gates.append(Gate(ins + (cout,), (1,) * len(ins) + (-2,), 1))
        carry = cout
    outputs.append(carry)
    return ThresholdCircuit(n, tuple(gates), tuple(outputs))


# --------------------------------------------------------------------------- digits


def int_to_digits(values: torch.Tensor, digits: int, base: int = 10) -> torch.Tensor:
    """Digits ``(B, digits)`` of non-negative integers ``(B,)``, least significant first."""
    check_int("digits", digits, minimum=1)
    check_int("base", base, minimum=2)
    powers = base ** torch.arange(digits, device=values.device)
    return (values.long().unsqueeze(1) // powers) % base


def digits_to_int(d: torch.Tensor, base: int = 10) -> torch.Tensor:
    """Inverse of :func:`int_to_digits`: integers ``(B,)`` from digits ``(B, L)``, LSB first."""
    powers = base ** torch.arange(d.shape[1], device=d.device)
    return (d.long() * powers).sum(1)


@dataclass(frozen=True)
class _TwoOperandTask:
    """What the arithmetic chains share: m-digit operands a, b in base B (least significant digit
    first) as a prompt of 2m tokens; subclasses define ``sequences`` and ``answer``."""

    digits: int
    base: int = 10
    cot: bool = True

    def __post_init__(self) -> None:
        check_int("digits", self.digits, minimum=1)
        check_int("base", self.base, minimum=2)

    @property
    def prompt_length(self) -> int:
        return 2 * self.digits

    def with_cot(self, cot: bool):
        """The same task with (``True``) or without the chain of thought."""
        return replace(self, cot=cot)

    def sequences(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def sample(self, m: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``m`` sequences with uniform operands: ``(tokens, targets)``, each long ``(m, T)`` on
        ``generator.device``."""
        check_int("m", m, minimum=1)
        dev, hi = device_of(generator), self.base**self.digits
        a = torch.randint(0, hi, (m,), generator=generator, device=dev)
        b = torch.randint(0, hi, (m,), generator=generator, device=dev)
        return self.sequences(a, b)

    def operands(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The integers a, b that a batch of sequences ``(B, T)`` starts with."""
        m = self.digits
        return digits_to_int(tokens[:, :m], self.base), digits_to_int(
            tokens[:, m : 2 * m], self.base
        )


@dataclass(frozen=True)
class AdditionCoT(_TwoOperandTask):
    """a + b for m-digit numbers in base B, with (``cot=True``) or without the column sums.

    Tokens are 0..2B−1. Sequence: a_0..a_{m−1}, b_0..b_{m−1} (the prompt, length 2m), then with the
    chain the column sums t_0..t_{m−1}, t_i = a_i + b_i + [t_{i−1} >= B], and in both cases the
    m + 1 answer digits (t_i mod B, then the final carry).
    """

    @property
    def length(self) -> int:
        """T = 4m + 1 with the chain, 3m + 1 without."""
        return self.prompt_length + (self.digits if self.cot else 0) + self.digits + 1

    @property
    def vocab_size(self) -> int:
        return 2 * self.base

    def sequences(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, targets)`` for integers ``a``, ``b`` ``(B,)`` in [0, B^m)."""
        m, B = self.digits, self.base
        if (a < 0).any() or (b < 0).any() or (a >= B**m).any() or (b >= B**m).any():
            raise ValueError(f"operands must lie in [0, {B**m})")
        da, db = int_to_digits(a, m, B), int_to_digits(b, m, B)
        sums, carry = [], torch.zeros_like(a).long()
        for i in range(m):
            t = da[:, i] + db[:, i] + carry
            sums.append(t)
            carry = (t >= B).long()
        t = torch.stack(sums, 1)
        answer = torch.cat([t % B, carry.unsqueeze(1)], 1)
        parts = [da, db] + ([t] if self.cot else []) + [answer]
        tokens = torch.cat(parts, 1)
        return tokens, _targets(tokens, self.prompt_length)

    def answer(self, tokens: torch.Tensor) -> torch.Tensor:
        """The integer that the last m + 1 tokens encode (digits reduced mod B)."""
        return digits_to_int(tokens[:, -(self.digits + 1) :] % self.base, self.base)


@dataclass(frozen=True)
class MultiplicationCoT(_TwoOperandTask):
    """a · b for m-digit numbers in base B with a column-by-column chain of thought.

    Prompt: a_0..a_{m−1}, b_0..b_{m−1} (LSB first). For each output column i = 0..2m−2 the chain
    writes the carry coming in, c_i (c_0 = 0), then the running sums r = c_i + sum of a_j b_{i−j}
    over j in increasing order, one token per product; c_{i+1} = r_final // B. Then it writes the
    final carry c_{2m−1} and the 2m answer digits (r_final of column i mod B for i ≤ 2m−2, then
    c_{2m−1}). Without the chain, only the 2m answer digits follow the prompt. Tokens are integers
    0..m(B−1)B, the largest running sum.
    """

    def _columns(self) -> list[list[int]]:
        m = self.digits
        return [[j for j in range(m) if 0 <= i - j < m] for i in range(2 * m - 1)]

    @property
    def chain_length(self) -> int:
        """Chain tokens before the answer: per column its carry and one token per product, + 1."""
        return sum(1 + len(c) for c in self._columns()) + 1

    @property
    def length(self) -> int:
        return self.prompt_length + (self.chain_length if self.cot else 0) + 2 * self.digits

    @property
    def vocab_size(self) -> int:
        return self.digits * (self.base - 1) * self.base + 1

    def sequences(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, targets)`` for integers ``a``, ``b`` ``(B,)`` in [0, B^m)."""
        m, B = self.digits, self.base
        if (a < 0).any() or (b < 0).any() or (a >= B**m).any() or (b >= B**m).any():
            raise ValueError(f"operands must lie in [0, {B**m})")
        da, db = int_to_digits(a, m, B), int_to_digits(b, m, B)
        chain, answer = [], []
        carry = torch.zeros_like(a).long()
        for i, col in enumerate(self._columns()):
            chain.append(carry)
            r = carry
            for j in col:
                r = r + da[:, j] * db[:, i - j]
                chain.append(r)
            answer.append(r % B)
            carry = r // B
        chain.append(carry)
        answer.append(carry)
        parts = [da, db] + ([torch.stack(chain, 1)] if self.cot else []) + [torch.stack(answer, 1)]
        tokens = torch.cat(parts, 1)
        return tokens, _targets(tokens, self.prompt_length)

    def answer(self, tokens: torch.Tensor) -> torch.Tensor:
        """The integer that the last 2m tokens encode (digits reduced mod B)."""
        return digits_to_int(tokens[:, -2 * self.digits :] % self.base, self.base)
