# BonStudio image: web UI + API + in-process workers by default; `worker` runs a Hangfire server only.
#   docker build -t bonstudio .
#   docker run -p 8080:8080 -v bonstudio-data:/data bonstudio            # web + workers
#   docker run -v bonstudio-data:/data bonstudio worker                  # worker only (see docs/operations.md)
# Ubuntu 24.04 ("noble") images ship a libstdc++ with GLIBCXX_3.4.32, so the Debian 12 patch of
# libLibTorchSharp.so (build/LibTorchSharpGlibcxx.targets) detects that and does nothing here.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# Restore first so the (large) libtorch packages are cached in their own layer.
COPY BonStudio.sln Directory.Build.props Directory.Build.targets ./
COPY build/ build/
COPY src/Training/BonStudio.Training.csproj src/Training/
COPY src/Data/BonStudio.Data.csproj src/Data/
COPY src/Web/BonStudio.Web.csproj src/Web/
RUN dotnet restore src/Web/BonStudio.Web.csproj
COPY . .
RUN dotnet publish src/Web/BonStudio.Web.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080 \
    BonStudioOptions__DataDirectory=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "BonStudio.Web.dll"]
