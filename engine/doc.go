// Package engine is the core of Persona Workbench: everything that is not
// user interface. It is split into small packages with one job each:
//
//   - inventory: the field inventory, the licence's data list, which drives
//     every query (nothing about a particular data set is hard-coded);
//   - store: an embedded, in-memory DuckDB hardened for locked-down
//     workstations (no extensions, no network, no spill files, no file
//     access once the data is loaded);
//   - slice: the description of an aggregate query of 0-2 dimensions with
//     filters, a measure, sort, top-N and totals, and of its result;
//   - guard: the privacy guard, the only code that runs a slice: minimum
//     group size, few contributors, complementary suppression and
//     difference checks against the licence's release history;
//   - dataset, pack, licence, keys, contract, usagelog, erase: opening data
//     and packages, licences and keys, identifier screening, the usage log,
//     deletion and its certificate.
//
// The engine never imports the terminal UI; the UI reaches it only through
// commands that return messages.
package engine
