// Package buildinfo says which infra-guard this is: version, commit,
// commit time, whether the tree was modified, and the Go that built it.
//
// By default it reads what the go command stamped into the binary
// (debug.ReadBuildInfo): the module version for `go install …@VERSION`, and
// vcs.revision, vcs.time and vcs.modified for a `go build` in a git
// checkout. A release build sets the variables below instead:
//
//	go build -ldflags "-X github.com/infra-guard/infra-guard/buildinfo.Version=v1.2.3
//	  -X github.com/infra-guard/infra-guard/buildinfo.Commit=$(git rev-parse HEAD)
//	  -X github.com/infra-guard/infra-guard/buildinfo.CommitTime=2026-11-29T12:00:00Z"
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set with -ldflags -X at release time; each one that is set wins over
// the stamped build info.
var (
	Version    = ""
	Commit     = ""
	CommitTime = ""
	// Dirty is "true" or "false".
	Dirty = ""
)

// Info describes this binary.
type Info struct {
	Version    string `json:"version"`     // "v0.1.0", a pseudo-version, or "(devel)"
	Commit     string `json:"commit"`      // full git revision, "" when unknown
	CommitTime string `json:"commit_time"` // RFC 3339, "" when unknown
	Dirty      bool   `json:"dirty"`       // built from a tree with uncommitted changes
	GoVersion  string `json:"go_version"`  // "go1.26.8"
	Platform   string `json:"platform"`    // GOOS/GOARCH, "linux/amd64"
}

// Get returns the build information of the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi)
}

// fromBuildInfo builds Info from bi (nil when the binary carries none) and
// the -X variables.
func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		info.Version = bi.Main.Version
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.time":
				info.CommitTime = s.Value
			case "vcs.modified":
				info.Dirty = s.Value == "true"
			}
		}
		// A pseudo-version of a modified tree says so itself: "+dirty".
		info.Dirty = info.Dirty || strings.HasSuffix(info.Version, "+dirty")
	}
	if Version != "" {
		info.Version = Version
	}
	if Commit != "" {
		info.Commit = Commit
	}
	if CommitTime != "" {
		info.CommitTime = CommitTime
	}
	if Dirty != "" {
		info.Dirty = Dirty == "true"
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// ShortCommit is the first 12 characters of the commit, or "unknown".
func (i Info) ShortCommit() string {
	switch {
	case i.Commit == "":
		return "unknown"
	case len(i.Commit) > 12:
		return i.Commit[:12]
	}
	return i.Commit
}
