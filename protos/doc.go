// Package protos holds kxds' shared .proto files and their generated Go code.
//
// Other repositories import it by version: tags are named protos/vX.Y.Z (for
// example protos/v0.1.0), as Go requires for a module in a subdirectory.
// Regenerate with ./generate.sh after editing a .proto; generate_test.go fails
// when the committed code is stale.
package protos
