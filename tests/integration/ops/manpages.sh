#!/bin/bash
echo todo; exit 1
