package cli

// This file holds `infra-guard vet`: every error of a script and the
// modules it loads, and the strict findings (runtime/lint.go), without
// running a check and without needing the script's variables or secrets,
// as text, JSON for editors and CI, or GitHub annotations.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/result"
	"github.com/infra-guard/infra-guard/runtime"
)

func (a *app) vetCommand() *ffcli.Command {
	format := "text"
	fs := a.flagSet("vet", a.logFlags, a.libFlags, a.loadTimeoutFlag)
	fs.Var(&flagValue[string]{dst: &format, parse: oneOf("text", "json", "github")}, "format", "findings as text, json (file, line, col, severity, msg) or github (workflow annotations)")
	return a.command(&ffcli.Command{
		Name:       "vet",
		ShortUsage: "infra-guard vet [flags] [SCRIPT]",
		ShortHelp:  "report every error and likely bug of SCRIPT without running any check",
		LongHelp: "Reports syntax, name and load errors, and mistakes that would let a check pass\n" +
			"silently. Variables and secrets that are not set are notes, not errors.\n" +
			"Exits 0 when clean (notes only), 1 with warnings, 3 with errors.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			ctx, cancel := a.loadDeadline(ctx, "vet")
			defer cancel()
			return a.execVet(ctx, args, format)
		},
	})
}

// vetFinding is one finding in vet --format json.
type vetFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Msg      string `json:"msg"`
}

func (a *app) execVet(ctx context.Context, args []string, format string) error {
	logger, s, err := a.prepare(args)
	if err != nil {
		return err
	}
	opts := a.loadOptions(logger)
	opts.Placeholders = true
	g, findings := runtime.VetAll(ctx, s.Path, s.Src, opts)
	a.releaseOutput()
	code := result.ExitOK
	for _, f := range findings {
		switch f.Severity {
		case runtime.SevError:
			code = result.ExitUnknown
		case runtime.SevWarning:
			code = max(code, result.ExitWarn)
		}
	}
	switch format {
	case "json":
		out := make([]vetFinding, 0, len(findings))
		for _, f := range findings {
			out = append(out, vetFinding{f.File, f.Line, f.Col, string(f.Severity), f.Msg})
		}
		enc := json.NewEncoder(a.env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitError{result.ExitUnknown}
		}
	case "github":
		kinds := map[runtime.Severity]string{runtime.SevError: "error", runtime.SevWarning: "warning", runtime.SevNote: "notice"}
		for _, f := range findings {
			fmt.Fprintf(a.env.Stdout, "::%s file=%s,line=%d,col=%d,title=infra-guard vet::%s\n",
				kinds[f.Severity], ghProperty(f.File), f.Line, f.Col, ghData(f.Msg))
		}
	default:
		for _, f := range findings {
			fmt.Fprintln(a.env.Stdout, f.String())
		}
		if g != nil {
			fmt.Fprintf(a.env.Stdout, "%s: ok, %d checks\n", s.Path, len(g.Checks))
		}
	}
	if code == result.ExitOK {
		return nil
	}
	return exitError{code}
}

// ghData and ghProperty escape a workflow command's message and
// properties, as GitHub's toolkit does.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
