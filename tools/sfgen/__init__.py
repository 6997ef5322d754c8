"""sfgen: deterministic capture generator with ground truth for shardflow's end-to-end tests.

Layout: wire (header bytes), capture (pcap/pcapng writers and link framing), model (packet
metadata and the reference flow accounting that turns it into expected records), conv
(conversation builders), scenarios/mixed/big (the named scenarios). tools/sfgen.py is the CLI.
"""
