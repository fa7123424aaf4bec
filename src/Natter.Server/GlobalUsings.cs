// Options, metrics, log messages and the caller sit beneath every stage: each may use them.
global using Natter.Server.Common;
