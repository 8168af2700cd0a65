"""The command line: parse, call one service, render. Only this package prints."""
