// Command modelgen generates a Sesame wire package (Go shapes, operation
// table, Service interface, dispatcher, error constructors) from an AWS
// service model, so that no request or response shape is typed by hand.
//
//	go run ./tools/modelgen -model spec/models/ses-2010-12-01.service.json -pkg v1wire -out internal/api/v1wire/zz_generated.go
//
// The wire packages carry the matching //go:generate directives; output is
// deterministic and gofmt'ed, and CI checks that regenerating changes nothing.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	modelPath := flag.String("model", "", "AWS service model (*.service.json)")
	pkg := flag.String("pkg", "", "Go package name of the output")
	out := flag.String("out", "", "output file")
	flag.Parse()
	if *modelPath == "" || *pkg == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*modelPath, *pkg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
}

func run(modelPath, pkg, out string) error {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return err
	}
	src, err := generate(data, pkg, filepath.Base(modelPath))
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}
	return os.WriteFile(out, src, 0o644)
}
