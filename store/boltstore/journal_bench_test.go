//go:build unix

package boltstore

import (
	"context"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/taxiihub/taxiihub/audit"
)

// BenchmarkJournalAppend appends one 600-byte frame at a time, durable each.
func BenchmarkJournalAppend(b *testing.B) {
	j, err := openJournal(filepath.Join(b.TempDir(), "j"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	frame := [][]byte{make([]byte, 600)}
	for b.Loop() {
		if j.off > journalSize-1024 {
			j.rewind()
		}
		if err := j.append(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudit appends read records one at a time, as one client's GETs
// do, and reports the process's CPU (user and system) per record too.
func BenchmarkAudit(b *testing.B) {
	s := openJournaled(b, filepath.Join(b.TempDir(), "hub.db"))
	defer s.Close()
	defer reportCPU(b)()
	for b.Loop() {
		if err := s.Audit(context.Background(), readRecord()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditConcurrent appends read records from 4 goroutines per core,
// as concurrent GETs do: the committer's batches share a write and a sync.
func BenchmarkAuditConcurrent(b *testing.B) {
	s := openJournaled(b, filepath.Join(b.TempDir(), "hub.db"))
	defer s.Close()
	defer reportCPU(b)()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Audit(context.Background(), readRecord()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func readRecord() *audit.Record {
	return &audit.Record{Action: audit.ActionRead, Path: "/election2020/collections/indicators/objects/x/", UserAgent: "taxii2-client/2.3"}
}

// reportCPU starts counting the process's CPU (user and system); the
// function it returns reports it per op.
func reportCPU(b *testing.B) func() {
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	return func() {
		var after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
		b.ReportMetric(float64(cpu)/float64(b.N)/1e3, "cpu-µs/op")
	}
}
