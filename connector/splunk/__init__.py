"""The Splunk side: splunkd REST (conf, storage/passwords), CIM field maps, event writers, the alert-action plumbing."""
