package starlib

// This file holds the compiled forms of @std's modules: Starlark bytecode
// made from each NAME.star (compiled/NAME.starc, written by the runtime's
// tests with UPDATE_STD=1), so a run that loads @std//checks.star decodes
// it instead of parsing and compiling it, some twenty times faster. Each
// starts with the sha256 of the source it was made from; a stale one is
// not used.

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"sync"

	"go.starlark.net/starlark"
)

//go:embed compiled
var compiled embed.FS

// Magic starts a compiled module, before the source's sha256.
const Magic = "infra-guard-std-1\n"

// Compiled returns the program compiled from module name's text src, or
// nil when there is none or it was made from another text. Programs are
// decoded once per process and shared: a Program is immutable.
func Compiled(name string, src []byte) *starlark.Program {
	sum := sha256.Sum256(src)
	v, _ := programs.LoadOrStore(name+"\x00"+string(sum[:]), sync.OnceValue(func() *starlark.Program {
		b, err := compiled.ReadFile("compiled/" + name + "c")
		if err != nil || !bytes.HasPrefix(b, []byte(Magic)) || !bytes.HasPrefix(b[len(Magic):], sum[:]) {
			return nil
		}
		prog, err := starlark.CompiledProgram(bytes.NewReader(b[len(Magic)+len(sum):]))
		if err != nil {
			return nil
		}
		return prog
	}))
	return v.(func() *starlark.Program)()
}

var programs sync.Map // module name, NUL, sha256 of its text -> func() *starlark.Program

// Encode is the content of compiled/NAME.starc for a program compiled from
// src.
func Encode(src []byte, prog *starlark.Program) ([]byte, error) {
	var b bytes.Buffer
	sum := sha256.Sum256(src)
	b.WriteString(Magic)
	b.Write(sum[:])
	if err := prog.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
