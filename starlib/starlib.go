// Package starlib is @std, the standard library of guard scripts: Starlark
// modules embedded in the binary, which a guard loads with
// load("@std//NAME.star", ...), the same way on every machine and with no
// file to install. The runtime's loader reads them through FS; a load()
// inside one of them resolves relative to this library, never to the
// guard's directory.
package starlib

import (
	"embed"
	"io/fs"
)

//go:embed checks.star default.star encoding.star re.star semver.star yaml.star
var files embed.FS

// FS returns the modules, one .star file each at the top of the tree:
// default.star is @std//default.star.
func FS() fs.FS { return files }
