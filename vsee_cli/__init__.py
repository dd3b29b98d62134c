"""The command lines, above the mock and the proxy: `vsee-mock` (`vsee_mock.main`) serves the mock (`mock`) or, as
`vsee-mock proxy`, the validation proxy (`proxy`), both with granian (`serving`, granian's internals in
`granian_compat`), checked first (`startup`) and parsed the same way (`options`)."""
