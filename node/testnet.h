/*
 * testnet.h - umbra testnet: a local network of real nodes on loopback.
 *
 * testnet_main() starts N `umbra node` processes (this same binary), node
 * I in DIR/nodeI with its log in DIR/nodeI/log, listening on 127.0.0.1
 * with ports the kernel picks. Node I > 1 is seeded with the addresses of
 * node I-1 and of one other random earlier node: the seed graph is
 * connected but sparse, and with few links per node (--max-peers, default
 * 4) requests must be routed over several hops. It waits until every node
 * has linked to min(2, N-1, K) peers, prints one line per node and
 * "testnet ready: ...", then runs until SIGINT or SIGTERM and stops every
 * node it started (SIGTERM, then SIGKILL after TESTNET_STOP_WAIT s).
 *
 * A node that exits on its own is reported on stderr; the others keep
 * running. The nodes are stopped too if the testnet itself dies (they
 * get SIGTERM from the kernel). A second run on the same DIR reuses the
 * datadirs: the nodes keep their identities, stores and known peers.
 *
 * Exit status: 0 after a stop asked for by a signal; 1 if the network
 * did not come up or every node exited (each node started is stopped);
 * 2 bad usage.
 */
#ifndef UMBRA_TESTNET_H
#define UMBRA_TESTNET_H

#define TESTNET_NODES_MIN 2
#define TESTNET_NODES_MAX 64
#define TESTNET_DEFAULT_MAX_PEERS 4
#define TESTNET_FILE_WAIT 10.0	/* s for a node's api and address files */
#define TESTNET_PEERS_WAIT 60.0	/* s for every node to link up */
#define TESTNET_STOP_WAIT 10.0	/* s for the nodes to exit on SIGTERM */

/* argv[0] is "testnet". */
int testnet_main(int argc, char **argv);

#endif
