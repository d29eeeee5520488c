// Package schema holds the JSON Schema of the json report format, embedded,
// and Validate, which checks a document against it. It is its own package,
// imported only by tests, because compiling schemas is expensive at startup:
// the validator library's init alone took 3.6 ms, more than a whole small
// guard run.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSONSchema is report-v1.schema.json: the JSON Schema (draft 2020-12)
// of what the json format writes. Treat it as read-only.
//
//go:embed report-v1.schema.json
var JSONSchema []byte

// schemaURL is the schema's $id; the compiler resolves it to the embedded
// copy and never fetches anything.
const schemaURL = "https://raw.githubusercontent.com/infra-guard/infra-guard/main/report/schema/report-v1.schema.json"

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "started" must really be a date-time
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	return s, nil
})

// Validate reports whether data is one JSON document valid against
// JSONSchema. The error of an invalid document lists every violation with
// its JSON pointer.
func Validate(data []byte) error {
	s, err := compiledSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	return s.Validate(inst)
}
