# Readahead replay (tests/bench/replay_ra.c): recorded (tests/traces/) and
# synthetic swap-in traces against every policy of swap/readahead.c.
BENCHES += replay_ra
replay_ra_SRCS := tests/bench/replay_ra.c tests/bench/ra_replay.c tests/bench/ra_synth.c \
                  tests/bench/ra_goal.c swap/readahead.c
