// Package kubernetes holds the manifests for running infra-guard on a
// cluster; its test decodes each strictly with the k8s.io/api types, so
// a misspelt or misplaced field fails here and not at kubectl apply.
package kubernetes

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/infra-guard/infra-guard/runtime"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func TestManifestsDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	kinds := map[string]func() any{
		"ConfigMap": func() any { return &corev1.ConfigMap{} },
		"DaemonSet": func() any { return &appsv1.DaemonSet{} },
		"CronJob":   func() any { return &batchv1.CronJob{} },
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var head struct{ Kind string }
		if err := json.Unmarshal(js, &head); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mk, ok := kinds[head.Kind]
		if !ok {
			t.Fatalf("%s: kind %q has no decoder in this test", f, head.Kind)
		}
		obj := mk()
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		seen[head.Kind] = true
		// The guard in a ConfigMap must load: vet it as serve would.
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			for name, src := range cm.Data {
				path := filepath.Join(t.TempDir(), name)
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, errs := runtime.Vet(t.Context(), path, nil, runtime.LoadOptions{}); len(errs) > 0 {
					t.Errorf("%s: %s does not vet: %v", f, name, errs)
				}
			}
		}
		if ds, ok := obj.(*appsv1.DaemonSet); ok {
			c := ds.Spec.Template.Spec.Containers[0]
			if c.LivenessProbe.HTTPGet.Path != "/livez" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s: probes %s and %s, want /livez and /readyz", f, c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
			}
			if ds.Spec.Template.Annotations["prometheus.io/scrape"] != "true" || c.Resources.Requests.Cpu().IsZero() {
				t.Errorf("%s: want prometheus.io/scrape and resource requests", f)
			}
		}
	}
	for k := range kinds {
		if !seen[k] {
			t.Errorf("no %s manifest", k)
		}
	}
}

// A misspelt field must fail, or the test above proves nothing.
func TestStrictDecodeCatchesUnknownField(t *testing.T) {
	js, err := yaml.YAMLToJSONStrict([]byte("apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  selectr: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&appsv1.DaemonSet{}); err == nil {
		t.Error("spec.selectr decoded without error")
	}
}
