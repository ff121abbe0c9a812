// grpc-health: the gRPC server of the probe tests. It serves grpc.health.v1.Health on
// -port (the overall health, "", and one service, -service) and nothing else; with
// -no-health it serves no health service at all, as a gRPC server that never heard of it.
// A test flips the answer from inside the container: while /tmp/not-serving exists, every
// service reports NOT_SERVING; while /tmp/hang exists, Check never answers.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// hanging wraps the standard health server: Check blocks while /tmp/hang exists.
type hanging struct {
	*health.Server
}

func (h hanging) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	for exists("/tmp/hang") {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return h.Server.Check(ctx, req)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func main() {
	port := flag.Int("port", 9000, "port to listen on")
	service := flag.String("service", "db", "a named service besides the overall health")
	noHealth := flag.Bool("no-health", false, "serve no health service")
	flag.Parse()

	lis, err := net.Listen("tcp", ":"+strconv.Itoa(*port))
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer()
	if !*noHealth {
		hs := health.NewServer()
		healthpb.RegisterHealthServer(s, hanging{hs})
		go func() {
			last := healthpb.HealthCheckResponse_UNKNOWN
			for {
				status := healthpb.HealthCheckResponse_SERVING
				if exists("/tmp/not-serving") {
					status = healthpb.HealthCheckResponse_NOT_SERVING
				}
				if status != last {
					hs.SetServingStatus("", status)
					hs.SetServingStatus(*service, status)
					log.Printf("health: %s", status)
					last = status
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	log.Printf("serving gRPC on :%d (health service: %v)", *port, !*noHealth)
	log.Fatal(s.Serve(lis))
}
