package cli

// This file holds the commands about infra-guard itself: version, help,
// completion and man. Completion scripts and the man page are generated
// from the same ffcli commands and flag sets that parse the command line
// (see cmdSpecs), so they cannot drift from it.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/infra-guard/infra-guard/buildinfo"
	"github.com/infra-guard/infra-guard/report"
)

// shells are the shells `completion` writes scripts for.
var shells = []string{"bash", "zsh", "fish"}

func (a *app) metaCommands(root *ffcli.Command) []*ffcli.Command {
	var versionFormat string
	version := a.command(&ffcli.Command{
		Name:       "version",
		ShortUsage: "infra-guard version [--format text|json]",
		ShortHelp:  "print the version, commit, commit time, dirty flag and Go version",
		FlagSet: a.flagSet("version", func(fs *flag.FlagSet) {
			fs.StringVar(&versionFormat, "format", "text", "output format: text or json")
		}),
		Exec: func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("version takes no arguments")
			}
			return a.printVersion(versionFormat)
		},
	})
	help := a.command(&ffcli.Command{
		Name:       "help",
		ShortUsage: "infra-guard help [COMMAND]",
		ShortHelp:  "show the usage of infra-guard or of COMMAND, as -h does",
		FlagSet:    a.flagSet("help"),
		Exec: func(_ context.Context, args []string) error {
			c := root
			switch {
			case len(args) > 1:
				return fmt.Errorf("help takes at most one COMMAND")
			case len(args) == 1:
				if c = subcommand(root, args[0]); c == nil {
					return fmt.Errorf("unknown command %q (commands: %s)", args[0], strings.Join(commandNames(root), ", "))
				}
			}
			fmt.Fprintln(a.env.Stdout, c.UsageFunc(c))
			return nil
		},
	})
	completion := a.command(&ffcli.Command{
		Name:       "completion",
		ShortUsage: "infra-guard completion bash|zsh|fish",
		ShortHelp:  "print a shell completion script (e.g. source <(infra-guard completion bash))",
		FlagSet:    a.flagSet("completion"),
		Exec: func(_ context.Context, args []string) error {
			if len(args) != 1 || !slices.Contains(shells, args[0]) {
				return fmt.Errorf("completion wants one shell: %s", strings.Join(shells, ", "))
			}
			return writeCompletion(a.env.Stdout, args[0], cmdSpecs(root))
		},
	})
	man := a.command(&ffcli.Command{
		Name:       "man",
		ShortUsage: "infra-guard man",
		ShortHelp:  "print the man page (roff), e.g. infra-guard man | man -l -",
		FlagSet:    a.flagSet("man"),
		Exec: func(_ context.Context, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("man takes no arguments")
			}
			return writeMan(a.env.Stdout, root, cmdSpecs(root), buildinfo.Get())
		},
	})
	cmds := []*ffcli.Command{version, help, completion, man}
	for _, c := range cmds {
		// INFRA_GUARD_FORMAT=github is for run; version --format must
		// not read it.
		c.Options = nil
	}
	return cmds
}

func (a *app) printVersion(format string) error {
	bi := buildinfo.Get()
	switch format {
	case "json":
		enc := json.NewEncoder(a.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(bi)
	case "text":
		orUnknown := func(s string) string {
			if s == "" {
				return "unknown"
			}
			return s
		}
		_, err := fmt.Fprintf(a.env.Stdout, "infra-guard %s\ncommit:      %s\ncommit time: %s\ndirty:       %t\ngo:          %s %s\n",
			bi.Version, orUnknown(bi.Commit), orUnknown(bi.CommitTime), bi.Dirty, bi.GoVersion, bi.Platform)
		return err
	}
	return fmt.Errorf("invalid --format %q: want text or json", format)
}

func subcommand(root *ffcli.Command, name string) *ffcli.Command {
	for _, c := range root.Subcommands {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func commandNames(root *ffcli.Command) []string {
	var names []string
	for _, c := range root.Subcommands {
		names = append(names, c.Name)
	}
	return names
}

// cmdSpec is what completion and the man page need to know of a command.
type cmdSpec struct {
	Name        string // "" for the root command
	ShortUsage  string
	ShortHelp   string
	Flags       []flagSpec
	Args        argKind
	Subcommands []string // the names of its own subcommands (argSubcommand)
}

type flagSpec struct {
	Name, Usage, Default string
	Bool                 bool     // takes no value
	Choices              []string // the values it takes, when they are a fixed set
	Suffix               string   // appended to each choice: "=" for --report FORMAT=PATH
}

// argKind is what a command's positional arguments are.
type argKind int

const (
	argNone argKind = iota
	argScript
	argCommand
	argShell
	argSubcommand
)

// cmdSpecs reads the root command and its subcommands, root first.
func cmdSpecs(root *ffcli.Command) []cmdSpec {
	specs := []cmdSpec{spec(root, "")}
	for _, c := range root.Subcommands {
		specs = append(specs, spec(c, c.Name))
		if c.Name == "run" && len(specs[0].Flags) == 0 {
			// With no command, the arguments go to run (withRun),
			// flags and all.
			specs[0].Flags = specs[len(specs)-1].Flags
		}
	}
	specs[0].Args = argScript
	return specs
}

func spec(c *ffcli.Command, name string) cmdSpec {
	s := cmdSpec{Name: name, ShortUsage: c.ShortUsage, ShortHelp: c.ShortHelp}
	switch name {
	case "run", "vet", "list", "test", "fmt", "serve":
		s.Args = argScript
	case "help":
		s.Args = argCommand
	case "completion":
		s.Args = argShell
	}
	for _, sub := range c.Subcommands { // libs fetch|add
		s.Subcommands = append(s.Subcommands, sub.Name)
	}
	if len(s.Subcommands) > 0 {
		s.Args = argSubcommand
	}
	if c.FlagSet != nil {
		c.FlagSet.VisitAll(func(f *flag.Flag) {
			fs := flagSpec{Name: f.Name, Usage: f.Usage, Default: f.DefValue}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				fs.Bool = true
			}
			fs.Choices, fs.Suffix = flagChoices(name, f.Name)
			s.Flags = append(s.Flags, fs)
		})
	}
	return s
}

// flagChoices are the values a flag takes, when they are a fixed set. A
// test checks that each flag's usage names them, so that a new value
// there is not forgotten here.
func flagChoices(cmd, flagName string) (choices []string, suffix string) {
	switch {
	case flagName == "format":
		switch cmd {
		case "", "run", "test":
			return report.Names(), ""
		case "vet":
			return []string{"text", "json", "github"}, ""
		case "doc":
			return []string{"text", "markdown", "json"}, ""
		case "version":
			return []string{"text", "json"}, ""
		}
	case flagName == "report":
		return report.Names(), "="
	case flagName == "color":
		return []string{"auto", "always", "never"}, ""
	case flagName == "log-format":
		return []string{"text", "json"}, ""
	case flagName == "log-level":
		return []string{"debug", "info", "warn", "error"}, ""
	}
	return nil, ""
}
