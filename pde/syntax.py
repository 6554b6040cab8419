"""The spec strings a user types -- alpha^2F, the e-e transition probability P(omega), the initial state -- as
help texts, in a module that imports nothing: the command line's help is generated from them without loading
the physics that parses them (``pde.spectra``, ``pde.electron_electron``, ``pde.initial_states``, each of which
re-exports its own)."""

__all__ = ["ALPHA2F_HELP", "P_EE_HELP", "INITIAL_HELP"]

#: The alpha^2F spectra ``pde.spectra.parse_spectrum`` reads.
ALPHA2F_HELP = (
    "einstein | modes:RMIN-RMAX | peaks:W:L[,W:L...] | debye[:WD] | "
    "lorentz:C:G[,C:G...] | file:PATH[:COL]"
)

#: The transition probabilities P(omega) of Eq. (S22) ``pde.electron_electron.make_p_ee`` reads.
P_EE_HELP = "gaussian:WIDTH | constant:CUTOFF | power:D[:CUTOFF] (D = 1, 2, 3)"

#: The initial states f(E, 0) ``pde.initial_states.parse_initial`` reads.
INITIAL_HELP = (
    "thermal (f0(T_in), the default) | pulse:E0:WIDTH:AMPLITUDE (a photoexcited state: f0(T_in) + "
    "A [exp(-(E - E0)^2/2W^2) - exp(-(E + E0)^2/2W^2)], electrons at +E0 and holes at -E0, particle number "
    "kept exactly; refused unless 0 <= f <= 1 on the grid) | file:PATH (two columns E, f on any grid, '#' "
    "comments, interpolated linearly; f0(T_in) outside the table; 0 <= f <= 1 and finite)"
)
