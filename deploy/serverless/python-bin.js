'use strict';

// The interpreter serverless-python-requirements runs pip with. pip only DOWNLOADS wheels here
// (--platform manylinux2014_aarch64 --python-version 3.12 --only-binary=:all:), so any Python 3 with pip
// works; the repo's venv is preferred because `make` creates it, then VIDSENSE_PYTHON, then python3.

const fs = require('fs');
const path = require('path');

module.exports = () => {
  if (process.env.VIDSENSE_PYTHON) return process.env.VIDSENSE_PYTHON;
  const venv = path.resolve(__dirname, '..', '..', '.venv', 'bin', 'python');
  if (fs.existsSync(venv)) return venv;
  return 'python3';
};
