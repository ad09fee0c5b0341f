"""The rate sheet: which line of each bucket applies on a day, and how a bucket is named for people."""
