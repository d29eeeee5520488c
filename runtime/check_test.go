package runtime

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/infra-guard/infra-guard/builtins"
	"github.com/infra-guard/infra-guard/result"
)

// tags= and after= take one string as well as a list, like every
// string-or-list argument; timeout= takes None, a string or a duration.
func TestCheckArgumentForms(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": `
check("db", lambda: True, tags = ("db", "net"), timeout = None)
check("api", lambda: True, tags = "net", after = "db", timeout = time.parse_duration("2s"))
check("web", lambda: True, tags = ["web"], after = ["db", "api"], timeout = "3s")
`})
	for _, tt := range []struct {
		name        string
		tags, after []string
		timeout     time.Duration
	}{
		{"db", []string{"db", "net"}, nil, 0},
		{"api", []string{"net"}, []string{"db"}, 2 * time.Second},
		{"web", []string{"web"}, []string{"db", "api"}, 3 * time.Second},
	} {
		i := slices.IndexFunc(g.Checks, func(c *Check) bool { return c.Name == tt.name })
		c := g.Checks[i]
		if !slices.Equal(c.Tags, tt.tags) || !slices.Equal(c.After, tt.after) || c.Timeout != tt.timeout {
			t.Errorf("%s: tags %q, after %q, timeout %v; want %q, %q, %v", c.Name, c.Tags, c.After, c.Timeout, tt.tags, tt.after, tt.timeout)
		}
	}
}

// json is go.starlark.net's lib/json.
func TestJSONModule(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": `
check("json", lambda: json.decode(json.encode({"a": [1, 2]})) == {"a": [1, 2]} and json.indent('{"a":1}') == '{\n\t"a": 1\n}')
`})
	if c := g.Run(context.Background(), RunOptions{}).Checks[0]; c.Status != result.OK {
		t.Errorf("json: %s %q", c.Status, c.Message)
	}
}

type fakeMemory struct{}

func (fakeMemory) Memory(context.Context) (builtins.MemoryInfo, error) {
	return builtins.MemoryInfo{Total: 100, Used: 93, Available: 7, UsedPercent: 93}, nil
}

// RunOptions.Deps is what the checks' builtins read the machine through.
func TestRunOptionsDeps(t *testing.T) {
	g := load(t, LoadOptions{}, map[string]string{"guard.star": `
check("memory", lambda: threshold(memory().used_percent, warn = 80, crit = 90, name = "memory", unit = "%"))
`})
	deps := builtins.NewDeps()
	defer deps.Close()
	deps.Memory = fakeMemory{}
	c := g.Run(context.Background(), RunOptions{Deps: deps}).Checks[0]
	if c.Status != result.Fail || c.Message != "memory 93% (warn > 80, crit > 90)" {
		t.Errorf("memory: %s %q, want fail from the fake's 93%%", c.Status, c.Message)
	}
}
