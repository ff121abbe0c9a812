// Command etcd is the etcd server at the version k8s.io/kubernetes pins in
// build/dependencies.yaml, built in the same module so the whole control
// plane comes from one go.sum.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
