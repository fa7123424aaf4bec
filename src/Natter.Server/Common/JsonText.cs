using System.Text.Json;

namespace Natter.Server.Common;

/// <summary>
/// Strings out of parsed JSON. JSON may escape a lone surrogate ("\ud800"), which parses but is no text: reading it
/// throws. These readers say "not text" instead, so the caller answers bad_request / 400.
/// </summary>
public static class JsonText
{
    /// <summary>The value of a JSON string; false when it is not valid text.</summary>
    public static bool TryGetText(this JsonElement element, out string? value)
    {
        try
        {
            value = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    /// <summary>A property's name; false when it is not valid text.</summary>
    public static bool TryGetName(this JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }
}
