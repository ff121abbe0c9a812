// Command static-pod-uid is the oracle for tskube's static pod UID and container
// hash: it runs the upstream kubelet's own file source (k8s.io/kubernetes
// pkg/kubelet/config) over a folder of manifests, exactly as the kubelet does with
// staticPodPath, and prints one JSON line per pod it accepted:
//
//	{"name":"web-node1","uid":"…","containers":{"app":"1a2b3c4d"}}
//
// with -dump FILE it prints instead the text upstream hashes for the UID of that
// manifest (go-spew over the decoded, defaulted internal pod), to diff against
// tskube's when the two disagree.
//
//	static-pod-uid -node NAME DIR
//	static-pod-uid -dump FILE
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	kubeconfig "k8s.io/kubernetes/pkg/kubelet/config"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
	kubetypes "k8s.io/kubernetes/pkg/kubelet/types"
	"k8s.io/utils/dump"
)

type noStartupSLI struct{}

func (noStartupSLI) ObservedPodOnWatch(*v1.Pod, time.Time) {}

type result struct {
	Name       string            `json:"name"`
	UID        string            `json:"uid"`
	Containers map[string]string `json:"containers"`
}

func main() {
	node := flag.String("node", "node1", "the node name the UIDs are computed for")
	dumpFile := flag.String("dump", "", "print the text hashed for this manifest's UID instead")
	flag.Parse()
	if *dumpFile != "" {
		os.Exit(printDump(*dumpFile))
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: static-pod-uid [-node NAME] DIR | -dump FILE")
		os.Exit(2)
	}
	ctx := context.Background()
	logger := klog.Background()
	cfg := kubeconfig.NewPodConfig(record.NewFakeRecorder(1000), noStartupSLI{})
	kubeconfig.NewSourceFile(logger, flag.Arg(0), types.NodeName(*node), time.Hour, cfg.Channel(ctx, kubetypes.FileSource))
	select {
	case update := <-cfg.Updates():
		out := json.NewEncoder(os.Stdout)
		for _, pod := range update.Pods {
			r := result{Name: pod.Name, UID: string(pod.UID), Containers: map[string]string{}}
			for i := range pod.Spec.InitContainers {
				r.Containers[pod.Spec.InitContainers[i].Name] = strconv.FormatUint(kubecontainer.HashContainer(&pod.Spec.InitContainers[i]), 16)
			}
			for i := range pod.Spec.Containers {
				r.Containers[pod.Spec.Containers[i].Name] = strconv.FormatUint(kubecontainer.HashContainer(&pod.Spec.Containers[i]), 16)
			}
			if err := out.Encode(r); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "the file source sent nothing in 30s")
		os.Exit(1)
	}
}

// printDump decodes the manifest the way the file source does and prints what its
// UID hashes (before the host and file strings are appended).
func printDump(file string) int {
	data, err := os.ReadFile(file)
	if err == nil {
		var js []byte
		if js, err = utilyaml.ToJSON(data); err == nil {
			var obj runtime.Object
			if obj, err = runtime.Decode(legacyscheme.Codecs.UniversalDecoder(), js); err == nil {
				fmt.Print(dump.ForHash(obj))
				return 0
			}
		}
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}
