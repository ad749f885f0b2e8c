# The two commands of the README: `make run` and `make test`. Both set up whatever is missing first.
.PHONY: run test setup cluster-demo

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run-example.sh $(ARGS)

test:
	@FERRY_SETUP_TEST_TOOLS=1 bash scripts/setup.sh
	npx vitest run $(ARGS)

# Knative Serving on this machine with Ferry as its ingress (README: "Ferry in a cluster, on one machine"); needs root.
cluster-demo:
	@FERRY_SETUP_TEST_TOOLS=1 bash scripts/setup.sh
	@node dist/test/cluster/demo.js
