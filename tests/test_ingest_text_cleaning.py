"""clean_text and fold_for_matching: what a reader sees of raw arXiv text."""

from __future__ import annotations

import random

import pytest

from paperfeed.ingest import clean_text, fold_for_matching


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # hard line breaks join; a blank line keeps a paragraph break as one newline
        (
            "Patients implanted with the PRIMA photovoltaic\nprosthesis report",
            "Patients implanted with the PRIMA photovoltaic prosthesis report",
        ),
        ("First paragraph\nwraps.\n\n  Second one.", "First paragraph wraps.\nSecond one."),
        (
            "ProRL: Prolonged Reinforcement Learning in\n  Large Language Models",
            "ProRL: Prolonged Reinforcement Learning in Large Language Models",
        ),
        ("state-of-the-\nart models", "state-of-the-art models"),
        ("  spaced \t out  ", "spaced out"),
        # math
        (r"We use $\alpha$-helices with $\beta \le 0.5$.", "We use α-helices with β ≤ 0.5."),
        (r"in $O(n^2)$ time", "in O(n^2) time"),
        (r"$\Omega$, $\lambda \ge 1$, $a \times b \cdot c$", "Ω, λ ≥ 1, a × b · c"),
        (
            r"$\epsilon \to 0$, $x \rightarrow \infty$, $\pm 1$, $\approx 3$",
            "ε → 0, x → ∞, ± 1, ≈ 3",
        ),
        (r"x$\sim$N(0,1)", "x∼N(0,1)"),
        (r"$\frac{1}{2}$ and $\frac{n+1}{k}$", "1/2 and (n+1)/k"),
        (r"$\mathbb{R}^d$, $\mathcal{O}(1)$, $x_{i}^{(k)}$", "ℝ^d, O(1), x_i^(k)"),
        (r"360{\deg} and 90$^\circ$", "360° and 90°"),
        (r"$$E = mc^2$$", "E = mc^2"),
        # text formatting
        (r"\emph{Focus}, \textbf{bold}, \textit{it}, \texttt{code}", "Focus, bold, it, code"),
        (r"$\mathrm{d}x$, $\mathbf{v}$, \text{plain}", "dx, v, plain"),
        (r"{\em old style} and {\bf bold}", "old style and bold"),
        (r"40\% faster \& 2\_000 \#1", "40% faster & 2_000 #1"),
        (r"see \href{https://example.org}{the page}~\cite{smith2020}.", "see the page ."),
        (r"we propose \method, which", "we propose method, which"),
        # accents
        (r"Schr\"odinger, {\"o}, \'e, \`a, \^o, \~n, \c{c}", "Schrödinger, ö, é, à, ô, ñ, ç"),
        (
            r"Fr\'{e}chet, na\"ive, Espa\~na, d\'ej\`a vu, Bal\'azs, \'\i",
            "Fréchet, naïve, España, déjà vu, Balázs, í",
        ),
        (r"Erd\H{o}s, \v{C}ech, Ko\c c, \ss, \o", "Erdős, Čech, Koç, ß, ø"),
        # dashes and tildes
        ("pages 13--35, Bland--Altman -- yes --- no", "pages 13–35, Bland–Altman – yes — no"),
        ("--flag and ---- rules stay", "--flag and ---- rules stay"),
        ("Fig.~3, 13~mm", "Fig. 3, 13 mm"),
        (
            "(~1B requests), ~20% better, http://host/~user",
            "(~1B requests), ~20% better, http://host/~user",
        ),
        # dollars that are money, not math
        ("at a cost of roughly $20.", "at a cost of roughly $20."),
        (r"costs $4 per test and $\alpha$ here", "costs $4 per test and α here"),
        ("from $20 and $30", "from $20 and $30"),
        (r"an escaped \$5 fee", "an escaped $5 fee"),
        # NFC: a decomposed é composes
        ("Cafe\u0301", "Café"),
        ("", ""),
    ],
)
def test_clean_text_renders_readable_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["{", "}", "$", "$$", "\\", "\\'", "\\c", "a { b } } {{ c", "$ unclosed \\alpha", "\\frac{1}{"],
)
def test_clean_text_survives_odd_input(raw: str) -> None:
    assert isinstance(clean_text(raw), str)


def test_clean_text_never_raises_on_random_latex_soup() -> None:
    pieces = [
        "$",
        "{",
        "}",
        "\\",
        "\\'",
        '\\"',
        "\\c",
        "~",
        "--",
        "\\alpha",
        "\\frac",
        "^",
        "_",
        "a",
        " ",
        "\n",
        "\\\\",
        "é",
        "%",
    ]
    generator = random.Random(20250318)
    for _ in range(2000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 30)))
        cleaned = clean_text(text)
        assert cleaned == cleaned.strip()


def test_clean_text_of_a_real_abstract() -> None:
    # From arxiv_2025-03.jsonl.gz, id 2503.11685 (see fixtures/README.md).
    raw = (
        "Activation Functions (AF) such as $tanh$, $sigmoid$, and $softmax$. This\n"
        "approach focuses on a Reconfigurable Processing Engine (RPE) based systolic\n"
        "array, with 40\\% pruning rate, enhanced throughput up to 4.64$\\times$, and\n"
        "reduction in power and area by 5.02 $\\times$ and 4.06 $\\times$ at CMOS 28 nm,"
    )
    assert clean_text(raw) == (
        "Activation Functions (AF) such as tanh, sigmoid, and softmax. This approach focuses "
        "on a Reconfigurable Processing Engine (RPE) based systolic array, with 40% pruning "
        "rate, enhanced throughput up to 4.64×, and reduction in power and area by 5.02 × and "
        "4.06 × at CMOS 28 nm,"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Schrödinger", "schrodinger"),
        ("Bogumił Kamiński", "bogumil kaminski"),
        ("François Théberge", "francois theberge"),
        ("Øresund STRASSE straße", "oresund strasse strasse"),
        ("ﬁne-tuning", "fine-tuning"),
        ("Plain ASCII", "plain ascii"),
    ],
)
def test_fold_for_matching_ignores_accents_and_case(text: str, expected: str) -> None:
    assert fold_for_matching(text) == expected
