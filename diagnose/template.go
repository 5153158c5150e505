package diagnose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// Template is the recommended probe configuration a container is compared
// against (design.md section 6). Teams keep their own in a YAML file of the
// same shape (--probe-template FILE).
type Template struct {
	ProbeSet
	// StartupBudgetFactor: the startup probe's budget must cover this many
	// times the observed start (1.5 unless the file says otherwise).
	StartupBudgetFactor float64 `json:"startupBudgetFactor,omitempty"`
}

// DefaultTemplateYAML is seed 01's fix, generalised: liveness checks only
// that the process answers, readiness checks dependencies and warm-up, a
// startup probe holds liveness off during a slow start, and preStop gives
// load balancers time to drain.
const DefaultTemplateYAML = `# crashlens recommended probe template
startupProbe:   {httpGet: {path: /healthz, port: http}, periodSeconds: 1, failureThreshold: 30}
livenessProbe:  {httpGet: {path: /healthz, port: http}, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3}
readinessProbe: {httpGet: {path: /readyz,  port: http}, periodSeconds: 5,  timeoutSeconds: 2, failureThreshold: 3}
lifecycle: {preStop: {exec: {command: ["sh", "-c", "sleep 5"]}}}
terminationGracePeriodSeconds: 30
startupBudgetFactor: 1.5
`

// DefaultTemplate returns a fresh copy of the built-in template.
func DefaultTemplate() *Template {
	t, err := LoadTemplate([]byte(DefaultTemplateYAML))
	if err != nil {
		panic("diagnose: built-in template: " + err.Error())
	}
	return t
}

// templateFields are the keys a template file may have.
var templateFields = map[string]bool{
	"startupProbe": true, "livenessProbe": true, "readinessProbe": true, "lifecycle": true,
	"terminationGracePeriodSeconds": true, "startupBudgetFactor": true,
}

// LoadTemplate parses a template file. Errors name the line at fault.
func LoadTemplate(data []byte) (*Template, error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("probe template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("probe template: the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yamlv3.MappingNode {
		return nil, fmt.Errorf("probe template: line %d: want a mapping of startupProbe, livenessProbe, readinessProbe, lifecycle, terminationGracePeriodSeconds", root.Line)
	}
	t := &Template{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if !templateFields[key.Value] {
			return nil, fmt.Errorf("probe template: line %d: unknown field %q", key.Line, key.Value)
		}
		// Decode each field on its own, so a type error names its line.
		var one yamlv3.Node
		one.Kind = yamlv3.MappingNode
		one.Content = []*yamlv3.Node{key, val}
		raw, err := yamlv3.Marshal(&one)
		if err != nil {
			return nil, fmt.Errorf("probe template: line %d: %v", key.Line, err)
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("probe template: line %d: %v", key.Line, err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(t); err != nil {
			return nil, fmt.Errorf("probe template: line %d: %s: %v", val.Line, key.Value, err)
		}
	}
	if t.StartupBudgetFactor == 0 {
		t.StartupBudgetFactor = 1.5
	}
	if t.StartupBudgetFactor < 1 {
		return nil, errors.New("probe template: startupBudgetFactor must be at least 1")
	}
	return t, nil
}
