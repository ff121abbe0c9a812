// kube-get: GET one Kubernetes API path from inside a pod, as an in-cluster client does:
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (or $API as host:port),
// the bearer token in $TOKEN, and $CA (PEM) as the only trusted CA. The test image's
// busybox cannot do TLS with the API server; this static binary can. It prints the
// answer and writes "<kind> <number of items>" (or the error) to the termination log.
//
//	kube-get /api/v1/namespaces/default/pods
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		report(fmt.Sprintf("error: %v", err))
		os.Exit(1)
	}
}

func report(line string) {
	fmt.Println(line)
	_ = os.WriteFile("/dev/termination-log", []byte(line+"\n"), 0o644)
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: kube-get PATH")
	}
	addr := os.Getenv("API")
	if addr == "" {
		addr = net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(os.Getenv("CA"))) {
		return fmt.Errorf("$CA holds no PEM certificate")
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequest(http.MethodGet, "https://"+addr+os.Args[1], nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("TOKEN"))
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	os.Stdout.Write(body)
	fmt.Println()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", res.StatusCode, body)
	}
	var list struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("answer is not JSON: %w", err)
	}
	report(fmt.Sprintf("%s %d", list.Kind, len(list.Items)))
	return nil
}
