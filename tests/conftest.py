"""Session-wide settings for every test."""

import os

# jsii's Node 20 end-of-life banner would otherwise fill captured stderr.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
