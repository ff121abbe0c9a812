// Command etcd-seed writes API objects straight into the testbed's etcd, in the
// storage encoding kube-apiserver reads (protobuf in the `k8s\x00` envelope,
// keys under /registry), while the apiserver is stopped. Benchmarks use it to
// put tens of thousands of Services into the control plane in seconds: through
// the API each Service create costs the ClusterIP allocator more apiserver CPU
// the more Services exist, so 45k take far too long to write.
//
// It reads one JSON object a line on stdin (apiVersion and kind set; a
// resourceVersion is dropped, uid and creationTimestamp are filled in when
// missing) and prints the number of objects written.
//
//	etcd-seed -endpoint http://127.0.0.1:2379 < objects.ndjson
//
// Only the kinds the benchmarks seed are known (their etcd key is their
// resource's, as the apiserver's default storage lays them out); any other kind
// is an error naming the line.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// Where the apiserver keeps each kind (its default resource prefixes), and
// whether the key holds a namespace.
var storage = map[schema.GroupVersionKind]struct {
	prefix     string
	namespaced bool
}{
	corev1.SchemeGroupVersion.WithKind("Service"):            {"services/specs", true},
	corev1.SchemeGroupVersion.WithKind("Namespace"):          {"namespaces", false},
	discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"): {"endpointslices", true},
	networkingv1.SchemeGroupVersion.WithKind("IPAddress"):    {"ipaddresses", false},
}

// etcd's default --max-txn-ops.
const batch = 128

type kv struct{ key, value string }

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:2379", "etcd client URL")
	prefix := flag.String("prefix", "/registry", "the apiserver's --etcd-prefix")
	workers := flag.Int("workers", 4, "transactions in flight")
	flag.Parse()

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme, networkingv1.AddToScheme} {
		if err := add(scheme); err != nil {
			fail("scheme: %v", err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme).UniversalDeserializer()
	encoder := protobuf.NewSerializer(scheme, scheme)

	client, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 10 * time.Second})
	if err != nil {
		fail("etcd %s: %v", *endpoint, err)
	}
	defer client.Close()

	batches := make(chan []kv, *workers)
	errs := make(chan error, *workers)
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				ops := make([]clientv3.Op, len(b))
				for i, p := range b {
					ops[i] = clientv3.OpPut(p.key, p.value)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				_, err := client.Txn(ctx).Then(ops...).Commit()
				cancel()
				if err != nil {
					errs <- fmt.Errorf("etcd transaction of %d objects (first %s): %w", len(b), b[0].key, err)
					return
				}
			}
		}()
	}

	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	var pending []kv
	written := 0
	line := 0
	for in.Scan() {
		line++
		if len(in.Bytes()) == 0 {
			continue
		}
		obj, gvk, err := decoder.Decode(in.Bytes(), nil, nil)
		if err != nil {
			fail("stdin line %d: %v", line, err)
		}
		where, ok := storage[*gvk]
		if !ok {
			fail("stdin line %d: kind %s is not one etcd-seed knows where to store", line, gvk)
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			fail("stdin line %d: %v", line, err)
		}
		if m.GetName() == "" || where.namespaced != (m.GetNamespace() != "") {
			fail("stdin line %d: %s %q: metadata.name (and metadata.namespace exactly for namespaced kinds) must be set", line, gvk.Kind, m.GetNamespace()+"/"+m.GetName())
		}
		// The apiserver never stores a resourceVersion (etcd's revision is it).
		m.SetResourceVersion("")
		if m.GetUID() == "" {
			m.SetUID(uuid.NewUUID())
		}
		if created := m.GetCreationTimestamp(); created.IsZero() {
			m.SetCreationTimestamp(now)
		}
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
		var buf bufferWriter
		if err := encoder.Encode(obj, &buf); err != nil {
			fail("stdin line %d: encode: %v", line, err)
		}
		key := *prefix + "/" + where.prefix + "/"
		if where.namespaced {
			key += m.GetNamespace() + "/"
		}
		pending = append(pending, kv{key + m.GetName(), string(buf)})
		if len(pending) == batch {
			if !send(batches, errs, pending) {
				break
			}
			written += len(pending)
			pending = nil
		}
	}
	if err := in.Err(); err != nil {
		fail("stdin: %v", err)
	}
	if len(pending) > 0 && send(batches, errs, pending) {
		written += len(pending)
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		fail("%v", err)
	default:
	}
	fmt.Println(written)
}

// send hands a batch to the writers, or reports false once one has failed.
func send(batches chan<- []kv, errs chan error, b []kv) bool {
	select {
	case batches <- b:
		return true
	case err := <-errs:
		errs <- err
		return false
	}
}

type bufferWriter []byte

func (b *bufferWriter) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "etcd-seed: "+format+"\n", args...)
	os.Exit(1)
}
