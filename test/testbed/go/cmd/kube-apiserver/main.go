// Command kube-apiserver is the upstream kube-apiserver, built from the
// k8s.io/kubernetes module so tests run against the real thing.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones work without the host's zoneinfo

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // accept --logging-format=json like upstream
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // same /metrics as the upstream binary
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
