"""Tables turning the LaTeX found in arXiv abstracts into readable Unicode text.

Counted over the 84k abstracts in ``shared/data/arxiv``: the commands below cover
nearly all uses; anything else keeps its name without the backslash (author macros
such as ``\\method`` or ``\\ours`` stand for a word), see ``text_cleaning``.
"""

from __future__ import annotations


def _pairs(table: str) -> dict[str, str]:
    """Read ``"name symbol name symbol …"`` into a dict; keeps the tables below compact."""
    words = table.split()
    return dict(zip(words[0::2], words[1::2], strict=True))


def _names(table: str) -> frozenset[str]:
    """Read a whitespace-separated list of command names."""
    return frozenset(table.split())


GREEK_LETTERS = _pairs(
    """
    alpha α beta β gamma γ delta δ epsilon ε varepsilon ε zeta ζ eta η theta θ
    vartheta ϑ iota ι kappa κ lambda λ mu μ nu ν xi ξ omicron ο pi π varpi ϖ rho ρ
    varrho ϱ sigma σ varsigma ς tau τ upsilon υ phi φ varphi φ chi χ psi ψ omega ω
    Gamma Γ Delta Δ Theta Θ Lambda Λ Xi Ξ Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω
    """
)

MATH_SYMBOLS = _pairs(
    """
    le ≤ leq ≤ leqslant ≤ ge ≥ geq ≥ geqslant ≥ ne ≠ neq ≠ approx ≈ sim ∼ simeq ≃
    cong ≅ equiv ≡ propto ∝ ll ≪ gg ≫ prec ≺ succ ≻ preceq ⪯ succeq ⪰
    in ∈ notin ∉ ni ∋ subset ⊂ subseteq ⊆ supset ⊃ supseteq ⊇ cup ∪ cap ∩
    setminus ∖ emptyset ∅ varnothing ∅ forall ∀ exists ∃ neg ¬ lnot ¬ land ∧ wedge ∧
    lor ∨ vee ∨ oplus ⊕ otimes ⊗ odot ⊙ times × cdot · div ÷ pm ± mp ∓ ast ∗ star ⋆
    circ ∘ bullet • infty ∞ partial ∂ nabla ∇ sum ∑ prod ∏ int ∫ oint ∮ sqrt √ ell ℓ
    hbar ℏ Re ℜ Im ℑ aleph ℵ top ⊤ bot ⊥ perp ⊥ parallel ∥ mid | vert | Vert ‖
    langle ⟨ rangle ⟩ lceil ⌈ rceil ⌉ lfloor ⌊ rfloor ⌋
    to → rightarrow → longrightarrow → leftarrow ← gets ← longleftarrow ←
    leftrightarrow ↔ Rightarrow ⇒ Longrightarrow ⇒ implies ⇒ Leftarrow ⇐ impliedby ⇐
    Leftrightarrow ⇔ iff ⇔ mapsto ↦ uparrow ↑ downarrow ↓ Uparrow ⇑ Downarrow ⇓
    nearrow ↗ searrow ↘ ldots … dots … cdots … vdots ⋮ ddots ⋱ prime ′
    dagger † dag † ddagger ‡ S § copyright © textregistered ® texttrademark ™
    deg ° degree ° textdegree ° checkmark ✓ triangle △ square □ Box □ diamond ⋄
    angle ∠ therefore ∴ because ∵ textbar | textless < textgreater >
    textendash – textemdash — textquotedblleft “ textquotedblright ” textbullet •
    """
)

# Letters LaTeX spells as commands (``\\ss``, ``\\o``, ``\\l``); ``\\i`` is the dotless i
# that accents are put on (``\\'\\i``), handled with the accents.
SPECIAL_LETTERS = _pairs("ss ß o ø O Ø aa å AA Å ae æ AE Æ oe œ OE Œ l ł L Ł i ı j ȷ")

# Commands read as a word (function names, abbreviations, logos).
WORD_COMMANDS = _pairs(
    """
    log log ln ln exp exp sin sin cos cos tan tan tanh tanh max max min min arg arg
    argmax argmax argmin argmin det det lim lim sup sup inf inf Pr Pr mod mod bmod mod
    pmod mod gcd gcd dim dim ker ker LaTeX LaTeX TeX TeX eg e.g. ie i.e.
    """
) | {"etal": "et al."}

# Commands that only change how their argument looks (or add space): dropped, the
# argument stays. ``\\mathbb{R}`` is handled before this table is consulted.
FORMATTING_COMMANDS = _names(
    """
    emph textbf textit texttt textrm textsf textsc textsl textup textmd textnormal
    text mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr mathnormal
    boldsymbol bm mbox hbox operatorname underline uline overline textsuperscript
    textsubscript footnote url ensuremath mathop mathbin mathrel mathclap
    hat widehat tilde widetilde bar vec dot ddot check breve acute grave mathring
    underbrace overbrace displaystyle textstyle scriptstyle scriptscriptstyle
    em bf it rm tt sc sf sl bfseries itshape ttfamily scshape upshape mdseries
    small large Large LARGE huge Huge normalsize footnotesize scriptsize tiny
    big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr left right middle
    limits nolimits protect xspace noindent centering phantom frac dfrac tfrac binom
    """
)

SPACE_COMMANDS = _names("quad qquad enspace thinspace newline linebreak par")

# ``\\mathbb{R}`` and friends: the blackboard-bold letters with their own code points.
BLACKBOARD_LETTERS = _pairs("R ℝ N ℕ Z ℤ Q ℚ C ℂ E 𝔼 P ℙ")

# Accent commands -> the Unicode combining mark they put on the following letter;
# NFC normalisation then composes e.g. "e" + U+0301 into "é".
SYMBOL_ACCENTS = {
    '"': "\u0308",  # diaeresis: \"o -> ö
    "'": "\u0301",  # acute: \'e -> é
    "`": "\u0300",  # grave: \`a -> à
    "^": "\u0302",  # circumflex: \^o -> ô
    "~": "\u0303",  # tilde: \~n -> ñ
    "=": "\u0304",  # macron: \=a -> ā
    ".": "\u0307",  # dot above: \.z -> ż
}
LETTER_ACCENTS = {
    "c": "\u0327",  # cedilla: \c{c} -> ç
    "k": "\u0328",  # ogonek: \k{a} -> ą
    "u": "\u0306",  # breve: \u{g} -> ğ
    "v": "\u030c",  # caron: \v{c} -> č
    "H": "\u030b",  # double acute: \H{o} -> ő
    "r": "\u030a",  # ring: \r{a} -> å
    "d": "\u0323",  # dot below: \d{s} -> ṣ
    "b": "\u0331",  # macron below: \b{b} -> ḇ
}
