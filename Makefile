# make bench: the performance targets at 1,000,000 objects (scripts/bench.sh).
# make test: what CI runs.
.PHONY: bench test

bench:
	bash scripts/bench.sh

test:
	bash .ci/run
