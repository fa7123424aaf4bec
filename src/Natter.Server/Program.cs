using Natter.Server;

var app = NatterApp.Create(args);
app.Run();
