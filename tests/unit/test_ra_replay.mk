UNIT_TESTS += test_ra_replay
test_ra_replay_SRCS := tests/bench/ra_replay.c tests/bench/ra_synth.c tests/bench/ra_goal.c \
                       swap/readahead.c
