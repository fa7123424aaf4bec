using System.Text.Json.Nodes;

namespace Natter.Server.Api;

/// <summary>
/// A page of search results: each is a history item (<see cref="MessageDto"/>, whatever fields it carries) plus
/// room_name; cursor is null on the last page.
/// </summary>
public sealed record SearchPageDto(JsonObject[] Results, string? Cursor);
