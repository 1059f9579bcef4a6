// helm_render renders a Helm chart's templates offline with Go's text/template and the sprig
// function library, which is what Helm's own engine is built on, plus the functions Helm adds
// (include, tpl, toYaml, fromYaml, required). It is NOT helm: no hooks, no subcharts, no lookup,
// no schema file. It exists because no helm binary can be installed on the build machines, and it
// lets the tests check that the chart renders and that what it renders is valid Kubernetes.
//
//	helm_render [-f VALUES.yaml]... [-name RELEASE] [-namespace NS] CHART_DIR > rendered.yaml
//
// Each -f file is merged over values.yaml (maps merge key by key; anything else replaces).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm_render:", err)
		os.Exit(1)
	}
}

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	must(err)
	out := map[string]interface{}{}
	must(yaml.Unmarshal(data, &out))
	return out
}

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func main() {
	var extra valueFiles
	flag.Var(&extra, "f", "a values file merged over values.yaml (repeatable)")
	release := flag.String("name", "matih-provisioner", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm_render [-f VALUES.yaml]... [-name RELEASE] [-namespace NS] CHART_DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)

	chart := readYAML(filepath.Join(dir, "Chart.yaml"))
	values := readYAML(filepath.Join(dir, "values.yaml"))
	for _, f := range extra {
		merge(values, readYAML(f))
	}
	data := map[string]interface{}{
		"Values": values,
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
		},
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm", "IsInstall": true, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.32.0", "Major": "1", "Minor": "32"},
		},
	}

	root := template.New("chart").Option("missingkey=error")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["include"] = func(name string, v interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, v)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, v interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, v)
		return buf.String(), err
	}
	funcs["toYaml"] = func(v interface{}) string {
		out, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(out), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &out); err != nil {
			out["Error"] = err.Error()
		}
		return out
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	root.Funcs(funcs)

	files, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	must(err)
	sort.Strings(files)
	var names []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".yml") && !strings.HasSuffix(f, ".tpl") {
			continue
		}
		text, err := os.ReadFile(f)
		must(err)
		name := filepath.Join(filepath.Base(dir), "templates", filepath.Base(f))
		_, err = root.New(name).Parse(string(text))
		must(err)
		if !strings.HasPrefix(filepath.Base(f), "_") && !strings.HasSuffix(f, ".tpl") {
			names = append(names, name)
		}
	}
	for _, name := range names {
		var buf bytes.Buffer
		must(root.ExecuteTemplate(&buf, name, data))
		body := strings.TrimSpace(buf.String())
		if body == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", name, body)
	}
}
