"""The M language: lexer, parser, values, evaluator and the library functions the tests need."""
