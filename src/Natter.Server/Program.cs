using Natter.Server.Hosting;

var app = NatterApp.Create(args);
app.Run();
