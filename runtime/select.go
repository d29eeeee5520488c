package runtime

// This file holds check selection for --only, --skip and --tag: narrowing a
// loaded guard to some of its checks, with their after= dependencies.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Selection names the checks to run. Empty Only and Tags select every check;
// otherwise a check is selected when Only names it or it carries one of
// Tags. Skip then removes checks by name. Dependencies (after=) of selected
// checks are selected too.
type Selection struct {
	Only, Skip, Tags []string
}

func (s Selection) empty() bool { return len(s.Only)+len(s.Skip)+len(s.Tags) == 0 }

// Select returns a guard that runs only the selected checks, in registration
// order. Unknown names and tags are errors, and so is skipping a check that a
// selected check runs after.
func (g *Guard) Select(s Selection) (*Guard, error) {
	if s.empty() {
		return g, nil
	}
	byName := make(map[string]*Check, len(g.Checks))
	tags := map[string]bool{}
	for _, c := range g.Checks {
		byName[c.Name] = c
		for _, t := range c.Tags {
			tags[t] = true
		}
	}
	for _, flagNames := range []struct {
		flag  string
		names []string
	}{{"--only", s.Only}, {"--skip", s.Skip}} {
		for _, n := range flagNames.names {
			if byName[n] == nil {
				return nil, fmt.Errorf("%s %q: no such check in %s (checks: %s)", flagNames.flag, n, g.Script, listNames(g.Checks))
			}
		}
	}
	for _, t := range s.Tags {
		if !tags[t] {
			known := make([]string, 0, len(tags))
			for t := range tags {
				known = append(known, t)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("--tag %q: no check in %s has this tag (tags: %s)", t, g.Script, strings.Join(known, ", "))
		}
	}

	selected := map[string]bool{}
	all := len(s.Only) == 0 && len(s.Tags) == 0
	for _, c := range g.Checks {
		if all || slices.Contains(s.Only, c.Name) || slices.ContainsFunc(c.Tags, func(t string) bool { return slices.Contains(s.Tags, t) }) {
			selected[c.Name] = true
		}
	}
	for _, n := range s.Skip {
		delete(selected, n)
	}
	// Pull in dependencies, transitively.
	var need func(c *Check) error
	need = func(c *Check) error {
		for _, dep := range c.After {
			if slices.Contains(s.Skip, dep) {
				return fmt.Errorf("--skip %q: check %q runs after it; skip %q too, or do not skip %q", dep, c.Name, c.Name, dep)
			}
			if !selected[dep] {
				selected[dep] = true
				if err := need(byName[dep]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, c := range g.Checks {
		if selected[c.Name] {
			if err := need(c); err != nil {
				return nil, err
			}
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("the selection (--only, --skip, --tag) leaves no check to run")
	}
	out := *g
	out.Checks = nil
	for _, c := range g.Checks {
		if selected[c.Name] {
			out.Checks = append(out.Checks, c)
		}
	}
	out.byName = indexChecks(out.Checks)
	return &out, nil
}

func indexChecks(checks []*Check) map[string]*Check {
	m := make(map[string]*Check, len(checks))
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func listNames(checks []*Check) string {
	if len(checks) > 20 {
		return fmt.Sprintf("%d registered; see infra-guard list", len(checks))
	}
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	return strings.Join(names, ", ")
}
