module github.com/kxds/kxds/echo

go 1.26.0

require github.com/kxds/kxds/protos v0.1.0

// Local development: use the protos module of this checkout. Released builds of
// other repositories import protos by its tag (protos/vX.Y.Z) instead.
replace github.com/kxds/kxds/protos => ../protos
