#!/usr/bin/env python
from linda.__main__ import main

if __name__ == "__main__":
    main()
