module github.com/infra-guard/infra-guard

go 1.26.0

require go.starlark.net v0.0.0-20260908191801-89a6a09411d5

require golang.org/x/sys v0.50.0 // indirect
