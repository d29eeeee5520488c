package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/infra-guard/infra-guard", Version: "v0.1.1-0.20261129121717-7cf2bb0abcde+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7cf2bb0abcdef0123456789abcdef0123456789a"},
			{Key: "vcs.time", Value: "2026-11-29T12:17:17Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name   string
		bi     *debug.BuildInfo
		ldflag [4]string // Version, Commit, CommitTime, Dirty
		want   Info
	}{
		{"no build info", nil, [4]string{}, Info{Version: "(devel)"}},
		{"go build in a checkout", stamped, [4]string{}, Info{
			Version: stamped.Main.Version, Commit: "7cf2bb0abcdef0123456789abcdef0123456789a",
			CommitTime: "2026-11-29T12:17:17Z", Dirty: true, GoVersion: "go1.26.8"}},
		{"go install", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.0"}}, [4]string{},
			Info{Version: "v0.1.0", GoVersion: "go1.26.8"}},
		{"release ldflags win", stamped, [4]string{"v0.2.0", "abc", "2026-12-01T00:00:00Z", "false"}, Info{
			Version: "v0.2.0", Commit: "abc", CommitTime: "2026-12-01T00:00:00Z", Dirty: false, GoVersion: "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Version, Commit, CommitTime, Dirty = tt.ldflag[0], tt.ldflag[1], tt.ldflag[2], tt.ldflag[3]
			defer func() { Version, Commit, CommitTime, Dirty = "", "", "", "" }()
			got := fromBuildInfo(tt.bi)
			if tt.want.GoVersion == "" {
				tt.want.GoVersion = got.GoVersion // the running Go's
			}
			tt.want.Platform = got.Platform
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestShortCommit(t *testing.T) {
	for in, want := range map[string]string{"": "unknown", "abc": "abc", "7cf2bb0abcdef0123": "7cf2bb0abcde"} {
		if got := (Info{Commit: in}).ShortCommit(); got != want {
			t.Errorf("ShortCommit(%q) = %q, want %q", in, got, want)
		}
	}
}
