// Command tdkt-ferretdb is the embedded MongoDB-protocol store of the local stack: FerretDB v1
// with its SQLite backend (one file per database under -data), so the services need no database
// server. It is built from this file rather than FerretDB's own cmd/ferretdb because that command
// panics at start when built from the module (its generated version file is not published).
//
// Usage: tdkt-ferretdb -listen 127.0.0.1:27017 -data var/ferretdb
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	data := flag.String("data", "var/ferretdb", "folder for the SQLite files, created if missing")
	verbose := flag.Bool("v", false, "log at info level instead of warnings only")
	durable := flag.Bool("fsync-every-commit", false, "SQLite synchronous=FULL: survive power loss too, at a few ms per write")
	flag.Parse()

	if err := run(*listen, *data, *verbose, *durable); err != nil {
		fmt.Fprintln(os.Stderr, "tdkt-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, data string, verbose, durable bool) error {
	dir, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create data folder %s: %w", dir, err)
	}

	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// In WAL mode, synchronous=NORMAL keeps every committed write across a crash of any process
	// and only risks the last commits on a power loss; FULL fsyncs every commit, which costs a
	// few milliseconds per write. The local stack is for development and tests: NORMAL.
	sync := "normal"
	if durable {
		sync = "full"
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   logger,
		Handler:  "sqlite",
		// The SQLite handler wants a folder URI that ends with a slash.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(" + sync + ")",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The supervisor waits for a MongoDB ping, not for this line; it is for people reading logs.
	fmt.Fprintf(os.Stderr, "tdkt-ferretdb: listening on %s, data in %s\n", listen, dir)
	return f.Run(ctx)
}
