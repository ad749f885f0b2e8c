// Command knative-vectors prints Knative's own probe hash for each KIngress JSON object read from stdin,
// one lowercase hex hash per line, so that Ferry's TypeScript hash is checked against the real thing.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"knative.dev/networking/pkg/apis/networking/v1alpha1"
	"knative.dev/networking/pkg/ingress"
)

func main() {
	decoder := json.NewDecoder(bufio.NewReader(os.Stdin))
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		var ing v1alpha1.Ingress
		if err := decoder.Decode(&ing); err == io.EOF {
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "knative-vectors: decoding a KIngress from stdin:", err)
			os.Exit(1)
		}
		hash, err := ingress.ComputeHash(&ing)
		if err != nil {
			fmt.Fprintln(os.Stderr, "knative-vectors:", err)
			os.Exit(1)
		}
		fmt.Fprintf(out, "%x\n", hash)
	}
}
