// Command kubelet is the upstream kubelet, built from the k8s.io/kubernetes
// module for benchmarks that run it side by side with tskube's.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // accept --logging-format=json like upstream
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // same /metrics as the upstream binary
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
