using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace BonStudio.Data.Migrations
{
    /// <inheritdoc />
    public partial class ScaleIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_SampleSets_RunId_Id",
                table: "SampleSets",
                columns: new[] { "RunId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_MetricPoints_RunId_Id",
                table: "MetricPoints",
                columns: new[] { "RunId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SampleSets_RunId_Id",
                table: "SampleSets");

            migrationBuilder.DropIndex(
                name: "IX_MetricPoints_RunId_Id",
                table: "MetricPoints");
        }
    }
}
